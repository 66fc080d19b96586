export function TracesPage() {
  return <div className="empty">Traces: coming in this issue.</div>;
}
