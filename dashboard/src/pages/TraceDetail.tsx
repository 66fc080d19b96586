export function TraceDetailPage() {
  return <div className="empty">TraceDetail: coming in this issue.</div>;
}
