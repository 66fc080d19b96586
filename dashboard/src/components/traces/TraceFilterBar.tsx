// The trace list's filters, each with a visible label. Text filters apply on Enter or when
// the field is left (the search also after a pause in typing); selects apply at once.
// Every change goes back to page 1 (the caller writes it to the URL).
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import {
  RANGE_LABELS,
  RANGE_PRESETS,
  SPAN_KINDS,
  TRACE_STATUSES,
  firstPage,
  hasConditions,
  isoInstant,
  joinKeyValues,
  splitKeyValues,
  splitList,
  type RangePreset,
  type SpanKindValue,
  type TraceFilters,
  type TraceStatusValue,
} from "../../lib/filters";

const SEARCH_DEBOUNCE_MS = 400;

/** A text field holding its own draft, committed on Enter or blur (and optionally after a pause). */
function CommitInput({
  label,
  value,
  onCommit,
  placeholder,
  type = "text",
  debounceMs,
  className,
}: {
  label: string;
  value: string;
  onCommit: (value: string) => void;
  placeholder?: string;
  type?: "text" | "search";
  debounceMs?: number;
  className?: string;
}) {
  const [draft, setDraft] = useState(value);
  const committed = useRef(value);
  // The URL changed under us (back/forward, a link, "Clear"): show what it says.
  useEffect(() => {
    committed.current = value;
    // Keep what is being typed when it says the same (e.g. a trailing space).
    setDraft((draft) => (draft.trim() === value.trim() ? draft : value));
  }, [value]);
  const commit = (next: string) => {
    if (next.trim() === committed.current.trim()) return;
    committed.current = next;
    onCommit(next);
  };
  const latestCommit = useRef(commit);
  latestCommit.current = commit;
  useEffect(() => {
    if (debounceMs === undefined || draft === committed.current) return;
    const timer = setTimeout(() => latestCommit.current(draft), debounceMs);
    return () => clearTimeout(timer);
  }, [draft, debounceMs]);
  return (
    <label className={`field ${className ?? ""}`}>
      <span>{label}</span>
      <input
        type={type}
        value={draft}
        placeholder={placeholder}
        onChange={(event) => setDraft(event.target.value)}
        onBlur={() => commit(draft)}
        onKeyDown={(event: KeyboardEvent<HTMLInputElement>) => {
          if (event.key === "Enter") commit(draft);
          if (event.key === "Escape" && type === "search") {
            setDraft("");
            commit("");
          }
        }}
        spellCheck={false}
        autoComplete="off"
      />
    </label>
  );
}

/** An ISO instant as a datetime-local input's value (local time, to the minute). */
function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

function fromLocalInput(value: string): string | null {
  if (!value) return null;
  // "YYYY-MM-DDTHH:mm" without a zone is local time to Date.
  const date = new Date(value);
  return Number.isFinite(date.getTime()) ? isoInstant(date.toISOString()) : null;
}

export function TraceFilterBar({
  filters,
  onChange,
}: {
  filters: TraceFilters;
  onChange: (next: TraceFilters) => void;
}) {
  const set = (patch: Partial<TraceFilters>) => onChange(firstPage({ ...filters, ...patch }));
  const range = filters.range;
  const rangeValue = range.kind === "all" ? "" : range.kind === "preset" ? range.preset : "custom";

  return (
    <form className="trace-filters" role="search" aria-label="Trace filters" onSubmit={(e) => e.preventDefault()}>
      <CommitInput
        label="Search"
        type="search"
        className="wide"
        value={filters.search}
        placeholder="Trace name contains…"
        debounceMs={SEARCH_DEBOUNCE_MS}
        onCommit={(search) => set({ search: search.trim() })}
      />
      <label className="field">
        <span>Time range</span>
        <select
          value={rangeValue}
          onChange={(event) => {
            const value = event.target.value;
            if (value === "") set({ range: { kind: "all" } });
            else if (value === "custom") {
              // Start from what a preset showed, so the custom range begins where it was.
              const now = Date.now();
              const from =
                range.kind === "preset"
                  ? new Date(now - RANGE_PRESETS[range.preset]).toISOString()
                  : new Date(now - RANGE_PRESETS["24h"]).toISOString();
              set({ range: { kind: "custom", from: isoInstant(from), to: null } });
            } else set({ range: { kind: "preset", preset: value as RangePreset } });
          }}
        >
          <option value="">Any time</option>
          {(Object.keys(RANGE_PRESETS) as RangePreset[]).map((preset) => (
            <option key={preset} value={preset}>
              {RANGE_LABELS[preset]}
            </option>
          ))}
          <option value="custom">Custom range…</option>
        </select>
      </label>
      {range.kind === "custom" && (
        <>
          <label className="field">
            <span>From</span>
            <input
              type="datetime-local"
              value={toLocalInput(range.from)}
              max={toLocalInput(range.to) || undefined}
              onChange={(event) => set({ range: { ...range, from: fromLocalInput(event.target.value) } })}
            />
          </label>
          <label className="field">
            <span>To</span>
            <input
              type="datetime-local"
              value={toLocalInput(range.to)}
              min={toLocalInput(range.from) || undefined}
              onChange={(event) => set({ range: { ...range, to: fromLocalInput(event.target.value) } })}
            />
          </label>
        </>
      )}
      <label className="field narrow">
        <span>Status</span>
        <select
          value={filters.status ?? ""}
          onChange={(event) => set({ status: (event.target.value || null) as TraceStatusValue | null })}
        >
          <option value="">Any</option>
          {TRACE_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </select>
      </label>
      <label className="field narrow">
        <span>Span kind</span>
        <select
          value={filters.kind ?? ""}
          onChange={(event) => set({ kind: (event.target.value || null) as SpanKindValue | null })}
        >
          <option value="">Any</option>
          {SPAN_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {kind}
            </option>
          ))}
        </select>
      </label>
      <CommitInput
        label="Model"
        value={filters.models.join(", ")}
        placeholder="gpt-4o, …"
        onCommit={(value) => set({ models: splitList(value) })}
      />
      <CommitInput
        label="Tags"
        value={filters.tags.join(", ")}
        placeholder="vip, beta"
        onCommit={(value) => set({ tags: splitList(value) })}
      />
      <label className="field narrow">
        <span>Tag match</span>
        <select
          value={filters.tagsMatch}
          onChange={(event) => set({ tagsMatch: event.target.value === "all" ? "all" : "any" })}
        >
          <option value="any">any</option>
          <option value="all">all</option>
        </select>
      </label>
      <CommitInput
        label="User ID"
        value={filters.userIds.join(", ")}
        onCommit={(value) => set({ userIds: splitList(value) })}
      />
      <CommitInput
        label="Session ID"
        value={filters.sessionIds.join(", ")}
        onCommit={(value) => set({ sessionIds: splitList(value) })}
      />
      <CommitInput
        label="Environment"
        value={filters.environments.join(", ")}
        placeholder="prod"
        onCommit={(value) => set({ environments: splitList(value) })}
      />
      <CommitInput
        label="Metadata"
        value={joinKeyValues(filters.metadata)}
        placeholder="key=value, …"
        onCommit={(value) => set({ metadata: splitKeyValues(value) })}
      />
      {hasConditions(filters) && (
        <button
          type="button"
          className="ghost clear"
          onClick={() =>
            onChange({
              ...firstPage(filters),
              search: "",
              range: { kind: "all" },
              status: null,
              kind: null,
              models: [],
              tags: [],
              tagsMatch: "any",
              userIds: [],
              sessionIds: [],
              environments: [],
              metadata: [],
            })
          }
        >
          Clear filters
        </button>
      )}
    </form>
  );
}
