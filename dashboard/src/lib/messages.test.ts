import { messagesFromAttributes, toChatMessages } from "./messages";

describe("toChatMessages", () => {
  it("reads an OpenAI-style messages array, with tool calls", () => {
    const messages = toChatMessages(
      [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Weather?" }, { type: "image_url", image_url: { url: "http://x/y.png" } }] },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
        },
        { role: "tool", name: "get_weather", content: "sunny" },
      ],
      "user",
    );
    expect(messages?.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
    expect(messages?.[1]?.parts).toEqual([
      { type: "text", text: "Weather?" },
      { type: "image", url: "http://x/y.png" },
    ]);
    expect(messages?.[2]?.parts).toEqual([{ type: "tool_call", name: "get_weather", input: { city: "Paris" } }]);
    expect(messages?.[3]).toMatchObject({ name: "get_weather", parts: [{ type: "text", text: "sunny" }] });
  });

  it("reads request bodies: {messages} and Anthropic's {system, messages}", () => {
    expect(toChatMessages({ messages: [{ role: "user", content: "hi" }], model: "gpt-4o" }, "user")).toEqual([
      { role: "user", parts: [{ type: "text", text: "hi" }] },
    ]);
    const anthropic = toChatMessages(
      {
        system: "You are kind.",
        messages: [
          { role: "user", content: [{ type: "text", text: "Add 2+2" }] },
          { role: "assistant", content: [{ type: "tool_use", id: "t", name: "calculator", input: { e: "2+2" } }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "4" }] },
        ],
      },
      "user",
    );
    expect(anthropic?.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(anthropic?.[2]?.parts).toEqual([{ type: "tool_call", name: "calculator", input: { e: "2+2" } }]);
    expect(anthropic?.[3]?.parts).toEqual([{ type: "tool_result", text: "4" }]);
  });

  it("reads responses: OpenAI choices and Anthropic messages", () => {
    expect(
      toChatMessages({ choices: [{ index: 0, message: { role: "assistant", content: "Hello" } }] }, "assistant"),
    ).toEqual([{ role: "assistant", parts: [{ type: "text", text: "Hello" }] }]);
    expect(
      toChatMessages({ id: "msg_1", type: "message", role: "assistant", content: [{ type: "text", text: "Hi" }] }, "assistant"),
    ).toEqual([{ role: "assistant", parts: [{ type: "text", text: "Hi" }] }]);
  });

  it("makes a plain string one message of the given role, and parses JSON in a string", () => {
    expect(toChatMessages("Hello there", "assistant")).toEqual([
      { role: "assistant", parts: [{ type: "text", text: "Hello there" }] },
    ]);
    expect(toChatMessages('[{"role":"user","content":"x"}]', "assistant")?.[0]?.role).toBe("user");
  });

  it("returns null for what is not chat", () => {
    expect(toChatMessages({ query: "x", limit: 3 }, "user")).toBeNull();
    expect(toChatMessages([1, 2, 3], "user")).toBeNull();
    expect(toChatMessages([{ role: "user", content: "a" }, { nope: true }], "user")).toBeNull();
    expect(toChatMessages([], "user")).toBeNull();
    expect(toChatMessages(null, "user")).toBeNull();
    expect(toChatMessages(42, "user")).toBeNull();
    expect(toChatMessages("   ", "user")).toBeNull();
    expect(toChatMessages('{"a": 1}', "user")).toBeNull();
  });

  it("does not change its input", () => {
    const input = [{ role: "assistant", content: "", tool_calls: [], function_call: { name: "f", arguments: "{}" } }];
    const before = JSON.stringify(input);
    expect(toChatMessages(input, "user")?.[0]?.parts).toEqual([{ type: "tool_call", name: "f", input: {} }]);
    expect(JSON.stringify(input)).toBe(before);
  });
});

describe("messagesFromAttributes", () => {
  it("reads OpenInference's flattened messages in index order", () => {
    const messages = messagesFromAttributes(
      {
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.content": "question",
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.contents.0.message_content.text": "rules",
        "llm.output_messages.0.message.role": "assistant",
        other: 1,
      },
      "llm.input_messages",
    );
    expect(messages).toEqual([
      { role: "system", parts: [{ type: "text", text: "rules" }] },
      { role: "user", parts: [{ type: "text", text: "question" }] },
    ]);
    expect(messagesFromAttributes({ a: 1 }, "llm.input_messages")).toBeNull();
  });
});
