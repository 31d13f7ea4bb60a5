import { gql } from "@apollo/client";

export type TaskStatus = "TODO" | "IN_PROGRESS" | "DONE";
export type TaskPriority = "LOW" | "MEDIUM" | "HIGH" | "URGENT";
export type Role = "OWNER" | "ADMIN" | "MEMBER" | "VIEWER";

export const STATUSES: { value: TaskStatus; label: string }[] = [
  { value: "TODO", label: "To do" },
  { value: "IN_PROGRESS", label: "In progress" },
  { value: "DONE", label: "Done" },
];
export const PRIORITIES: TaskPriority[] = ["LOW", "MEDIUM", "HIGH", "URGENT"];

export interface User {
  id: string;
  username: string;
  displayName: string;
}

export interface Task {
  __typename?: "Task";
  id: string;
  title: string;
  description: string;
  status: TaskStatus;
  priority: TaskPriority;
  dueDate: string | null;
  assignee: User | null;
  createdBy: User | null;
  updatedAt: string;
  version: number;
  commentCount: number;
}

export interface UserError {
  field: string | null;
  code: string;
  message: string;
}

export interface ProjectEvent {
  id: string;
  type: string;
  actor: User | null;
  data: Record<string, unknown> | null;
  createdAt: string;
  /** Only id and title: the board refetches what it shows, and `data` has the rest. */
  task: { id: string; title: string } | null;
}

const USER_FIELDS = gql`
  fragment UserFields on User {
    id
    username
    displayName
  }
`;

export const TASK_FIELDS = gql`
  fragment TaskFields on Task {
    id
    title
    description
    status
    priority
    dueDate
    assignee {
      ...UserFields
    }
    createdBy {
      ...UserFields
    }
    updatedAt
    version
    commentCount
  }
  ${USER_FIELDS}
`;

export const EVENT_FIELDS = gql`
  fragment EventFields on Event {
    id
    type
    actor {
      ...UserFields
    }
    data
    createdAt
    task {
      id
      title
    }
  }
  ${USER_FIELDS}
`;

export const VIEWER = gql`
  query Viewer {
    viewer {
      ...UserFields
    }
  }
  ${USER_FIELDS}
`;

export const PROJECTS = gql`
  query Projects {
    projects(first: 100) {
      totalCount
      edges {
        node {
          id
          name
          description
          viewerRole
          tasks(first: 0) {
            totalCount
          }
        }
      }
    }
  }
`;

export const BOARD = gql`
  query Board($projectId: ID!, $filter: TaskFilter, $search: String) {
    project(id: $projectId) {
      id
      name
      description
      viewerRole
      members {
        role
        user {
          ...UserFields
        }
      }
      tasks(filter: $filter, search: $search, first: 100, orderBy: { field: PRIORITY, direction: DESC }) {
        totalCount
        edges {
          node {
            ...TaskFields
          }
        }
      }
    }
  }
  ${TASK_FIELDS}
`;

export const ACTIVITY = gql`
  query Activity($projectId: ID!, $after: String) {
    activity(projectId: $projectId, first: 100, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...EventFields
        }
      }
    }
  }
  ${EVENT_FIELDS}
`;

export const TASK_DETAIL = gql`
  query TaskDetail($id: ID!) {
    task(id: $id) {
      ...TaskFields
      comments(first: 100) {
        totalCount
        edges {
          node {
            id
            body
            createdAt
            editedAt
            author {
              ...UserFields
            }
          }
        }
      }
      attachments {
        id
        name
        size
        contentType
        url
        state
        uploadedAt
        uploadedBy {
          ...UserFields
        }
      }
    }
  }
  ${TASK_FIELDS}
`;

export const PROJECT_EVENTS = gql`
  subscription ProjectEvents($projectId: ID!, $after: String) {
    projectEvents(projectId: $projectId, after: $after) {
      ...EventFields
    }
  }
  ${EVENT_FIELDS}
`;

export const CREATE_TASK = gql`
  mutation CreateTask($input: CreateTaskInput!) {
    createTask(input: $input) {
      task {
        ...TaskFields
      }
      errors {
        field
        code
        message
      }
    }
  }
  ${TASK_FIELDS}
`;

export const UPDATE_TASK = gql`
  mutation UpdateTask($input: UpdateTaskInput!) {
    updateTask(input: $input) {
      task {
        ...TaskFields
      }
      errors {
        field
        code
        message
      }
    }
  }
  ${TASK_FIELDS}
`;

export const DELETE_TASK = gql`
  mutation DeleteTask($input: DeleteTaskInput!) {
    deleteTask(input: $input) {
      deletedId
      errors {
        field
        code
        message
      }
    }
  }
`;

export const ADD_COMMENT = gql`
  mutation AddComment($input: AddCommentInput!) {
    addComment(input: $input) {
      comment {
        id
      }
      errors {
        field
        code
        message
      }
    }
  }
`;

export const DELETE_ATTACHMENT = gql`
  mutation DeleteAttachment($input: DeleteAttachmentInput!) {
    deleteAttachment(input: $input) {
      deletedId
      errors {
        field
        code
        message
      }
    }
  }
`;

export interface PresenceItem {
  user: User;
  taskId: string | null;
  editing: boolean;
  since: string;
}

export const PROJECT_PRESENCE = gql`
  subscription ProjectPresence($projectId: ID!, $taskId: ID, $editing: Boolean) {
    projectPresence(projectId: $projectId, taskId: $taskId, editing: $editing) {
      user {
        id
        username
        displayName
      }
      taskId
      editing
      since
    }
  }
`;
