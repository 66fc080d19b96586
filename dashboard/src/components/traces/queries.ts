// The trace list's GraphQL documents, shared by /traces, / and /sessions.
import { graphql } from "../../gql";

export const TraceRowFragment = graphql(`
  fragment TraceRow on Trace {
    id
    traceId
    name
    status
    startTime
    endTime
    durationMs
    spanCount
    errorCount
    totalTokens
    cost
    userId
    sessionId
    environment
    tags
  }
`);

/** One page of the project's traces; `traceCount` tells an empty project from a filter. */
export const TraceListQuery = graphql(`
  query TraceList(
    $projectId: ID!
    $filter: TraceFilter
    $sort: SortInput
    $first: Int
    $after: String
  ) {
    project(id: $projectId) {
      id
      traceCount
      traces(filter: $filter, sort: $sort, first: $first, after: $after) {
        nodes {
          ...TraceRow
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

/** Each new or changed trace of the project matching the filter, as it is stored. */
export const TraceUpdatesSubscription = graphql(`
  subscription TraceUpdates($projectId: ID!, $filter: TraceFilter) {
    traceUpdates(projectId: $projectId, filter: $filter) {
      ...TraceRow
    }
  }
`);
