/** Placeholder until the settings modal is built (issue 7). */
import { Modal } from "../../components/Modal";

export default function SettingsModal({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Settings" open onClose={onClose}>
      <p>Not built yet.</p>
    </Modal>
  );
}
