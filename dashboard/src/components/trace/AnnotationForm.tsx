// Adds a score, label or comment to the selected span or to the whole trace.
import { useId, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { AnnotateSpanMutation, AnnotateTraceMutation } from "./queries";

interface Props {
  /** Global ids (the mutations take them). */
  spanId: string | null;
  traceId: string | null;
}

export function AnnotationForm({ spanId, traceId }: Props) {
  const id = useId();
  const [target, setTarget] = useState<"span" | "trace">("span");
  const [name, setName] = useState("");
  const [score, setScore] = useState("");
  const [label, setLabel] = useState("");
  const [comment, setComment] = useState("");
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [spanResult, annotateSpan] = useMutation(AnnotateSpanMutation);
  const [traceResult, annotateTrace] = useMutation(AnnotateTraceMutation);
  const busy = spanResult.fetching || traceResult.fetching;
  const onTrace = target === "trace" || spanId === null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setMessage(null);
    const input = {
      name: name.trim(),
      score: score.trim() === "" ? null : Number(score),
      label: label.trim() || null,
      comment: comment.trim() || null,
    };
    if (!input.name) return setMessage({ error: true, text: "Give the annotation a name." });
    if (input.score !== null && !Number.isFinite(input.score)) {
      return setMessage({ error: true, text: "The score must be a number." });
    }
    if (input.score === null && !input.label && !input.comment) {
      return setMessage({ error: true, text: "Add a score, a label or a comment." });
    }
    const result = onTrace
      ? traceId
        ? await annotateTrace({ traceId, input })
        : null
      : await annotateSpan({ spanId: spanId!, input });
    if (!result) return setMessage({ error: true, text: "The trace is not stored yet." });
    if (result.error) {
      const error = result.error.graphQLErrors[0]?.message ?? result.error.message;
      return setMessage({ error: true, text: error });
    }
    setScore("");
    setLabel("");
    setComment("");
    setMessage({ error: false, text: `Added “${input.name}” to the ${onTrace ? "trace" : "span"}.` });
  }

  return (
    <form className="annotation-form" aria-label="Add annotation" onSubmit={(e) => void submit(e)}>
      <div className="annotation-fields">
        <label htmlFor={`${id}-target`}>On</label>
        <select
          id={`${id}-target`}
          value={onTrace ? "trace" : "span"}
          onChange={(e) => setTarget(e.target.value as "span" | "trace")}
        >
          <option value="span" disabled={spanId === null}>
            This span
          </option>
          <option value="trace">The whole trace</option>
        </select>
        <label htmlFor={`${id}-name`}>Name</label>
        <input
          id={`${id}-name`}
          value={name}
          maxLength={200}
          placeholder="e.g. correctness"
          onChange={(e) => setName(e.target.value)}
        />
        <label htmlFor={`${id}-score`}>Score</label>
        <input
          id={`${id}-score`}
          type="number"
          step="any"
          inputMode="decimal"
          value={score}
          onChange={(e) => setScore(e.target.value)}
        />
        <label htmlFor={`${id}-label`}>Label</label>
        <input
          id={`${id}-label`}
          value={label}
          maxLength={200}
          placeholder="e.g. hallucinated"
          onChange={(e) => setLabel(e.target.value)}
        />
        <label htmlFor={`${id}-comment`}>Comment</label>
        <textarea
          id={`${id}-comment`}
          rows={2}
          maxLength={10_000}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
        />
      </div>
      <div className="annotation-actions">
        <button type="submit" disabled={busy}>
          {busy ? "Adding…" : "Add annotation"}
        </button>
        {message && (
          <span role={message.error ? "alert" : "status"} className={message.error ? "error" : "muted"}>
            {message.text}
          </span>
        )}
      </div>
    </form>
  );
}
