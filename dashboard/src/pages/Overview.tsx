export function OverviewPage() {
  return <div className="empty">Overview: coming in this issue.</div>;
}
