// Dates on the projects page: to the minute, with the year only when it is not this one.
export function formatWhen(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  return date.toLocaleString(undefined, {
    year: date.getFullYear() === now.getFullYear() ? undefined : "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}
