export function AnalyticsPage() {
  return <div className="empty">Analytics: coming in this issue.</div>;
}
