export function SessionsPage() {
  return <div className="empty">Sessions: coming in this issue.</div>;
}
