// The GraphQL client: queries and mutations over HTTP, subscriptions over WebSocket
// (graphql-transport-ws), both with the signed-in person's access token.
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { accessToken, onSessionChange } from "./auth";

function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss:" : "ws:"}//${host}/graphql`;
}

let ws: WsClient | null = null;
// Each open subscription's way to start again on a new socket.
const restarters = new Set<() => void>();

function socket(): WsClient {
  ws ??= createWsClient({
    url: wsUrl(),
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionParams: () => ({ Authorization: `Bearer ${accessToken() ?? ""}` }),
  });
  return ws;
}

// The server checks a subscription's credentials while it runs, and an access token
// expires: a new token (every refresh) moves every open subscription to a new socket
// that authenticates with it. traceSpans answers with the stored spans first, so a view
// loses nothing in the swap.
onSessionChange(() => {
  const old = ws;
  ws = null;
  restarters.forEach((restart) => restart());
  void old?.dispose();
});

export const client = new Client({
  url: "/graphql",
  requestPolicy: "cache-and-network",
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query ?? "" };
        return {
          subscribe(sink) {
            // Each socket's subscription feeds the same sink until it is replaced; a
            // replaced one's own completion must not end the view's subscription.
            const attach = () => {
              let current = true;
              const dispose = socket().subscribe(input, {
                next: (value) => current && sink.next(value as Parameters<typeof sink.next>[0]),
                error: (error) => current && sink.error(error),
                complete: () => current && sink.complete(),
              });
              return () => {
                current = false;
                dispose();
              };
            };
            let detach = attach();
            const restart = () => {
              const previous = detach;
              detach = attach();
              previous();
            };
            restarters.add(restart);
            return {
              unsubscribe: () => {
                restarters.delete(restart);
                detach();
              },
            };
          },
        };
      },
    }),
  ],
  fetchOptions: () => {
    const token = accessToken();
    return token ? { headers: { Authorization: `Bearer ${token}` } } : {};
  },
});
