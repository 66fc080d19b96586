// The trace view's GraphQL: the trace and every span in outline (one query), each span's
// payload when it is selected (a second, small query), the live spans, annotations.
//
// The outline is Trace.spanOutline, one JSON value of rows, not `spans { ... }`: on a
// 10,000-span trace a dozen GraphQL fields per span took the server 0.7-1.1 s of value
// completion, the outline 0.35 s (the same values; see spansFromOutline). The tree is
// built here from parent ids (it must be anyway, to place live spans). A span's global
// id comes with its payload, for annotateSpan.
import { graphql } from "../../gql";

export const TraceOutlineQuery = graphql(`
  query TraceOutline($projectId: ID!, $traceId: String!) {
    project(id: $projectId) {
      id
      trace(traceId: $traceId) {
        id
        traceId
        name
        status
        startTime
        endTime
        durationMs
        spanCount
        errorCount
        inputTokens
        outputTokens
        totalTokens
        cost
        userId
        sessionId
        environment
        tags
        spanOutline
      }
    }
  }
`);

export const TraceSpansSubscription = graphql(`
  subscription TraceSpansLive($traceId: String!, $projectId: ID) {
    traceSpans(traceId: $traceId, projectId: $projectId) {
      spanId
      parentSpanId
      name
      kind
      status
      startTime
      endTime
      durationMs
      model
      totalTokens
      cost
    }
  }
`);

export const SpanPayloadQuery = graphql(`
  query SpanPayload($projectId: ID!, $traceId: String!, $spanId: String!) {
    project(id: $projectId) {
      id
      trace(traceId: $traceId) {
        id
        annotations {
          id
          name
          score
          label
          comment
          source
          createdAt
        }
        span(spanId: $spanId) {
          id
          spanId
          statusMessage
          inputTokens
          outputTokens
          totalTokens
          tokensEstimated
          cost
          costSource
          input
          output
          attributes
          events
          error
          annotations {
            id
            name
            score
            label
            comment
            source
            createdAt
          }
        }
      }
    }
  }
`);

export const AnnotateSpanMutation = graphql(`
  mutation AnnotateSpan($spanId: ID!, $input: AnnotationInput!) {
    annotateSpan(spanId: $spanId, input: $input) {
      id
      name
      score
      label
      comment
      source
      createdAt
    }
  }
`);

export const AnnotateTraceMutation = graphql(`
  mutation AnnotateTrace($traceId: ID!, $input: AnnotationInput!) {
    annotateTrace(traceId: $traceId, input: $input) {
      id
      name
      score
      label
      comment
      source
      createdAt
    }
  }
`);
