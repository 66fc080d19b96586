// Pretty JSON that stays readable and cheap when large: objects and arrays fold (open
// near the top, closed deeper down or when big), long arrays and strings show their start
// with a button for the rest.
import { useState } from "react";

const OPEN_DEPTH = 2;
const BIG_CONTAINER = 30;
const ITEMS_SHOWN = 100;
const STRING_SHOWN = 2000;

function LongString({ value, quoted = true }: { value: string; quoted?: boolean }) {
  const [all, setAll] = useState(false);
  const shown = all || value.length <= STRING_SHOWN ? value : value.slice(0, STRING_SHOWN);
  return (
    <span className={quoted ? "json-string" : "json-plain"}>
      {quoted && "“"}
      {shown}
      {shown.length < value.length && (
        <>
          …{" "}
          <button type="button" className="link-button" onClick={() => setAll(true)}>
            Show all {value.length.toLocaleString()} characters
          </button>
        </>
      )}
      {quoted && "”"}
    </span>
  );
}

function Scalar({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="json-null">null</span>;
  if (typeof value === "string") return <LongString value={value} />;
  if (typeof value === "number") return <span className="json-number">{String(value)}</span>;
  if (typeof value === "boolean") return <span className="json-bool">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

function Container({ value, depth, name }: { value: object; depth: number; name?: string }) {
  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray
    ? (value as unknown[]).map((item, index) => [String(index), item])
    : Object.entries(value);
  const [limit, setLimit] = useState(ITEMS_SHOWN);
  const [open, setOpen] = useState(depth < OPEN_DEPTH && entries.length <= BIG_CONTAINER);
  const summary = isArray ? `[${entries.length} items]` : `{${entries.length} keys}`;
  if (entries.length === 0) {
    return (
      <span className="json-line">
        {name !== undefined && <span className="json-key">{name}: </span>}
        <span className="json-null">{isArray ? "[]" : "{}"}</span>
      </span>
    );
  }
  return (
    <div className="json-node">
      <button
        type="button"
        className="json-fold"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden="true">{open ? "▾" : "▸"}</span> {name !== undefined && <span className="json-key">{name}: </span>}
        <span className="json-summary">{summary}</span>
      </button>
      {open && (
        <div className="json-children">
          {entries.slice(0, limit).map(([key, item]) => (
            <JsonEntry key={key} name={isArray ? undefined : key} index={isArray ? key : undefined} value={item} depth={depth + 1} />
          ))}
          {entries.length > limit && (
            <button type="button" className="link-button" onClick={() => setLimit(limit + ITEMS_SHOWN * 10)}>
              {entries.length - limit <= ITEMS_SHOWN * 10
                ? `Show the other ${(entries.length - limit).toLocaleString()}`
                : `Show ${(ITEMS_SHOWN * 10).toLocaleString()} more of ${(entries.length - limit).toLocaleString()}`}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function JsonEntry({ name, index, value, depth }: { name?: string; index?: string; value: unknown; depth: number }) {
  const label = name ?? index;
  if (typeof value === "object" && value !== null) {
    return <Container value={value} depth={depth} name={label} />;
  }
  return (
    <div className="json-line">
      {label !== undefined && <span className={name !== undefined ? "json-key" : "json-index"}>{label}: </span>}
      <Scalar value={value} />
    </div>
  );
}

/** `value` as folding JSON; a plain string is shown as text. */
export function JsonView({ value }: { value: unknown }) {
  if (typeof value === "string") {
    return (
      <div className="json-view json-text">
        <LongString value={value} quoted={false} />
      </div>
    );
  }
  return (
    <div className="json-view">
      <JsonEntry value={value} depth={0} />
    </div>
  );
}
