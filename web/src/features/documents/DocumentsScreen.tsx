/** Placeholder until this screen is built (issue 7). */
export default function DocumentsScreen() {
  return <p>Not built yet.</p>;
}
