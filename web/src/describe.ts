import { PRIORITIES, STATUSES, type ProjectEvent } from "./operations";

const FIELD_NAMES: Record<string, string> = {
  title: "title",
  description: "description",
  status: "status",
  priority: "priority",
  dueDate: "due date",
  assignee: "assignee",
  assigneeId: "assignee",
};

export function statusLabel(status: string): string {
  return STATUSES.find((entry) => entry.value === status)?.label ?? status;
}

export function priorityLabel(priority: string): string {
  return PRIORITIES.includes(priority as never) ? priority.charAt(0) + priority.slice(1).toLowerCase() : priority;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** One line of the activity feed. */
export function describeEvent(event: ProjectEvent): string {
  const who = event.actor?.displayName ?? "Someone";
  const data = event.data ?? {};
  const title = text(data.title) || event.task?.title || "a task";
  switch (event.type) {
    case "task.created":
      return `${who} created “${title}”`;
    case "task.updated": {
      const changed = Array.isArray(data.changedFields) ? (data.changedFields as string[]) : [];
      if (changed.length === 1 && changed[0] === "status") {
        return `${who} moved “${title}” to ${statusLabel(text(data.status))}`;
      }
      const names = changed.map((field) => FIELD_NAMES[field] ?? field).join(", ");
      return `${who} changed ${names || "details"} of “${title}”`;
    }
    case "task.deleted":
      return `${who} deleted “${title}”`;
    case "comment.created":
      return `${who} commented on “${event.task?.title ?? "a task"}”: ${text(data.body).slice(0, 80)}`;
    case "comment.updated":
      return `${who} edited a comment on “${event.task?.title ?? "a task"}”`;
    case "comment.deleted":
      return `${who} deleted a comment on “${event.task?.title ?? "a task"}”`;
    case "attachment.added":
      return `${who} attached ${text(data.name)} to “${event.task?.title ?? "a task"}”`;
    case "attachment.processed":
      return `${text(data.name)} is ready`;
    case "attachment.deleted":
      return `${who} removed ${text(data.name)}`;
    case "member.added": {
      const user = data.user as { displayName?: string } | undefined;
      return `${who} added ${user?.displayName ?? "a member"} as ${text(data.role).toLowerCase()}`;
    }
    case "member.removed": {
      const user = data.user as { displayName?: string } | undefined;
      return `${who} removed ${user?.displayName ?? "a member"}`;
    }
    case "project.updated":
      return `${who} updated the project`;
    default:
      return `${who}: ${event.type}`;
  }
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
