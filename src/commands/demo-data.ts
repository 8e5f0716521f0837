/** The embedded example for `ctxsync demo`: a small Rhema todos file with the usual comments and styles. */
export const DEMO_TODOS = `# Todo Items
# This file tracks work items for this scope (Rhema).

todos:
  - id: "demo-1"
    title: "Write the YAML parser"
    status: in_progress  # parser
    priority: high
    tags: [core, parser]
    description: |
      Parse YAML into an exact representation.
      Keep comments, order and formatting.

  - id: "demo-2"
    title: "Wire the network layer"
    status: todo
    priority: high
    tags: [net]

  - id: "demo-3"
    title: "Document the commands"
    status: todo
    priority: low
    tags: [docs]

  # -- end of todos --
`
