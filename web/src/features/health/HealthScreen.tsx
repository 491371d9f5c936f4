/** Placeholder until this screen is built (issue 7). */
export default function HealthScreen() {
  return <p>Not built yet.</p>;
}
