/** Asks before deleting a document: it takes the file, its passages and its search entries with it. */
import { Modal } from "../../components/Modal";

interface Props {
  title: string | null;
  onConfirm: () => void;
  onClose: () => void;
}

export function DeleteDialog({ title, onConfirm, onClose }: Props) {
  return (
    <Modal title="Delete document" open={title !== null} onClose={onClose}>
      <p className="text-slate-800">
        Delete “{title}”? Its file, its passages and its search entries are removed, and chat answers that cited it
        can no longer open it. This cannot be undone.
      </p>
      <div className="mt-4 flex flex-wrap justify-end gap-2">
        <button className="btn-secondary" onClick={onClose}>
          Cancel
        </button>
        <button className="btn-danger" onClick={onConfirm}>
          Delete
        </button>
      </div>
    </Modal>
  );
}
