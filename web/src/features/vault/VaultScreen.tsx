/** Placeholder until this screen is built (issue 7). */
export default function VaultScreen() {
  return <p>Not built yet.</p>;
}
