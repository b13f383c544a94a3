const labels: Record<string, string> = {
  created: 'awaiting payment',
  complete: 'complete',
  cancelled: 'cancelled',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {labels[status] ?? status}
    </span>
  );
}
