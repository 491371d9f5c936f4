/** Placeholder until this screen is built (issue 7). */
export default function ChatScreen() {
  return <p>Not built yet.</p>;
}
