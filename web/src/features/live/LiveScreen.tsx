/** Placeholder until this screen is built (issue 7). */
export default function LiveScreen() {
  return <p>Not built yet.</p>;
}
