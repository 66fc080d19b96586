// An LLM call's messages as a chat: one article per message, named "<role> message".
import { useState } from "react";
import type { ChatMessage, ChatPart } from "../../lib/messages";
import { JsonView } from "./JsonView";

const TEXT_SHOWN = 4000;

function Text({ text }: { text: string }) {
  const [all, setAll] = useState(false);
  const long = text.length > TEXT_SHOWN && !all;
  return (
    <div className="chat-text">
      {long ? `${text.slice(0, TEXT_SHOWN)}…` : text}
      {long && (
        <>
          {" "}
          <button type="button" className="link-button" onClick={() => setAll(true)}>
            Show all {text.length.toLocaleString()} characters
          </button>
        </>
      )}
    </div>
  );
}

function Part({ part }: { part: ChatPart }) {
  switch (part.type) {
    case "text":
      return <Text text={part.text} />;
    case "image":
      return (
        <div className="chat-image">
          Image
          {part.url && /^https?:\/\//.test(part.url) ? (
            <>
              :{" "}
              <a href={part.url} target="_blank" rel="noreferrer noopener">
                {part.url}
              </a>
            </>
          ) : null}
        </div>
      );
    case "tool_call":
      return (
        <div className="chat-tool">
          <div className="chat-tool-name">Calls {part.name}</div>
          <JsonView value={part.input} />
        </div>
      );
    case "tool_result":
      return (
        <div className="chat-tool">
          <div className="chat-tool-name">Tool result</div>
          <Text text={part.text} />
        </div>
      );
    case "json":
      return <JsonView value={part.value} />;
  }
}

export function ChatMessages({ messages }: { messages: ChatMessage[] }) {
  return (
    <div className="chat">
      {messages.map((message, index) => (
        <div
          key={index}
          role="article"
          aria-label={`${message.role} message`}
          className="chat-message"
          data-role={message.role}
        >
          <div className="chat-role">
            {message.role}
            {message.name ? <span className="chat-name"> · {message.name}</span> : null}
          </div>
          {message.parts.length === 0 ? (
            <div className="chat-empty">(empty)</div>
          ) : (
            message.parts.map((part, i) => <Part key={i} part={part} />)
          )}
        </div>
      ))}
    </div>
  );
}
