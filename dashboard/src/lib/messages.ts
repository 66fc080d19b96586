// An LLM span's input or output as chat messages, when it is chat messages: OpenAI-style
// [{role, content}] arrays (content a string or parts, tool calls too), request bodies
// ({messages}, Anthropic's {system, messages}), responses ({choices} and Anthropic's
// {role, content: [blocks]}), Gemini's {contents: [{role, parts}]}, OpenInference's
// flattened attributes (llm.input_messages.0.message.role ...), or a plain string (one
// message). Anything else is null: the caller shows it as JSON.

export type ChatPart =
  | { type: "text"; text: string }
  | { type: "image"; url: string | null }
  | { type: "tool_call"; name: string; input: unknown }
  | { type: "tool_result"; text: string }
  | { type: "json"; value: unknown };

export interface ChatMessage {
  role: string;
  /** A tool's or participant's name, when the message has one. */
  name?: string;
  parts: ChatPart[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseMaybeJson(value: string): unknown {
  const trimmed = value.trim();
  if (!(trimmed.startsWith("{") || trimmed.startsWith("["))) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    return value
      .map((item) => (isObject(item) && typeof item.text === "string" ? item.text : textOf(item)))
      .join("\n");
  }
  if (value === null || value === undefined) return "";
  return JSON.stringify(value, null, 2);
}

function toolInput(value: unknown): unknown {
  // OpenAI sends a tool call's arguments as a JSON string.
  if (typeof value === "string") {
    const parsed = parseMaybeJson(value);
    return parsed === undefined ? value : parsed;
  }
  return value;
}

function partOf(block: unknown): ChatPart {
  if (typeof block === "string") return { type: "text", text: block };
  if (!isObject(block)) return { type: "json", value: block };
  const type = typeof block.type === "string" ? block.type : undefined;
  if (typeof block.text === "string" && (!type || type.endsWith("text") || type === "text")) {
    return { type: "text", text: block.text };
  }
  switch (type) {
    case "image_url": {
      const image = block.image_url;
      const url = isObject(image) && typeof image.url === "string" ? image.url : null;
      return { type: "image", url: typeof image === "string" ? image : url };
    }
    case "image":
    case "input_image": {
      const source = block.source;
      const url =
        typeof block.image_url === "string"
          ? block.image_url
          : isObject(source) && typeof source.url === "string"
            ? source.url
            : null;
      return { type: "image", url };
    }
    case "tool_use":
    case "function_call":
      return { type: "tool_call", name: String(block.name ?? "tool"), input: toolInput(block.input ?? block.arguments) };
    case "tool_result":
    case "function_call_output":
      return { type: "tool_result", text: textOf(block.content ?? block.output) };
    default:
      break;
  }
  if (isObject(block.functionCall)) {
    return { type: "tool_call", name: String(block.functionCall.name ?? "tool"), input: block.functionCall.args };
  }
  if (isObject(block.functionResponse)) {
    return { type: "tool_result", text: textOf(block.functionResponse.response) };
  }
  return { type: "json", value: block };
}

function partsOf(content: unknown): ChatPart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  if (Array.isArray(content)) return content.map(partOf);
  return [partOf(content)];
}

function isMessage(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.role === "string" &&
    ("content" in value || "parts" in value || "tool_calls" in value || "function_call" in value)
  );
}

function messageOf(value: Json): ChatMessage {
  const parts = partsOf("parts" in value && !("content" in value) ? value.parts : value.content);
  const calls: unknown[] = Array.isArray(value.tool_calls) ? [...value.tool_calls] : [];
  if (isObject(value.function_call)) calls.push({ function: value.function_call });
  for (const call of calls) {
    const fn = isObject(call) && isObject(call.function) ? call.function : isObject(call) ? call : {};
    parts.push({ type: "tool_call", name: String(fn.name ?? "tool"), input: toolInput(fn.arguments) });
  }
  const message: ChatMessage = { role: (value.role as string).toLowerCase(), parts };
  if (typeof value.name === "string" && value.name) message.name = value.name;
  return message;
}

function messageList(value: unknown): ChatMessage[] | null {
  if (!Array.isArray(value) || value.length === 0 || !value.every(isMessage)) return null;
  return value.map((item) => messageOf(item as Json));
}

/** OpenInference's flattened messages: `${prefix}.0.message.role`, `.content`, `.contents.0.message_content.text`. */
export function messagesFromAttributes(attributes: unknown, prefix: string): ChatMessage[] | null {
  if (!isObject(attributes)) return null;
  const found = new Map<number, { role?: string; name?: string; text: string[] }>();
  const start = `${prefix}.`;
  for (const [key, value] of Object.entries(attributes)) {
    if (!key.startsWith(start)) continue;
    const match = /^(\d+)\.message\.(.+)$/.exec(key.slice(start.length));
    if (!match) continue;
    const index = Number(match[1]);
    const field = match[2]!;
    const entry = found.get(index) ?? { text: [] };
    found.set(index, entry);
    if (field === "role" && typeof value === "string") entry.role = value;
    else if (field === "name" && typeof value === "string") entry.name = value;
    else if (field === "content" && typeof value === "string") entry.text.unshift(value);
    else if (/^contents\.\d+\.message_content\.text$/.test(field) && typeof value === "string") {
      entry.text.push(value);
    }
  }
  if (found.size === 0) return null;
  return [...found.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, entry]) => {
      const message: ChatMessage = {
        role: (entry.role ?? "unknown").toLowerCase(),
        parts: entry.text.map((text) => ({ type: "text", text })),
      };
      if (entry.name) message.name = entry.name;
      return message;
    });
}

/**
 * `value` as chat messages, or null when it is not chat. A plain string is one message
 * of `role` (a prompt for an input, a completion for an output), unless it holds JSON.
 */
export function toChatMessages(value: unknown, role: string): ChatMessage[] | null {
  if (typeof value === "string") {
    const parsed = parseMaybeJson(value);
    if (parsed !== undefined) return toChatMessages(parsed, role);
    return value.trim() === "" ? null : [{ role, parts: [{ type: "text", text: value }] }];
  }
  if (Array.isArray(value)) return messageList(value);
  if (!isObject(value)) return null;

  if (isMessage(value)) return [messageOf(value)];
  if (Array.isArray(value.messages)) {
    const messages = messageList(value.messages) ?? (value.messages.length === 0 ? [] : null);
    if (messages === null) return null;
    // Anthropic's request has the system prompt beside the messages.
    if (typeof value.system === "string" || Array.isArray(value.system)) {
      const parts = partsOf(value.system);
      if (parts.length > 0) messages.unshift({ role: "system", parts });
    }
    return messages.length > 0 ? messages : null;
  }
  if (Array.isArray(value.choices) && value.choices.length > 0) {
    const messages: ChatMessage[] = [];
    for (const choice of value.choices) {
      if (!isObject(choice)) return null;
      const message = choice.message ?? choice.delta;
      if (isMessage(message)) messages.push(messageOf(message as Json));
      else if (typeof choice.text === "string") messages.push({ role, parts: [{ type: "text", text: choice.text }] });
      else return null;
    }
    return messages;
  }
  if (Array.isArray(value.contents)) return messageList(value.contents);
  if (Array.isArray(value.candidates) && value.candidates.length > 0) {
    const contents = value.candidates.map((c) => (isObject(c) ? c.content : undefined));
    return messageList(contents);
  }
  // Anthropic's response without a role, or a bare list of content blocks.
  if (value.type === "message" && Array.isArray(value.content)) {
    return [{ role: "assistant", parts: partsOf(value.content) }];
  }
  return null;
}
