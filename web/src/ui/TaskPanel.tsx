import { useMutation, useQuery } from "@apollo/client/react";
import { useEffect, useRef, useState } from "react";

import { describeEvent, formatTime } from "../describe";
import { describeError, describeUserErrors } from "../errors";
import { ADD_COMMENT, DELETE_TASK, TASK_DETAIL, VIEWER, type PresenceItem, type ProjectEvent, type Task, type User, type UserError } from "../operations";
import { Attachments, type AttachmentItem } from "./Attachments";
import type { Permissions } from "./Board";
import { TaskEditor } from "./TaskEditor";

export interface TaskDetail extends Task {
  comments: {
    totalCount: number;
    edges: { node: { id: string; body: string; createdAt: string; editedAt: string | null; author: User | null } }[];
  };
  attachments: AttachmentItem[];
}

interface Props {
  taskId: string;
  members: { user: User }[];
  permissions: Permissions;
  events: ProjectEvent[];
  /** Everyone else present in the project (usePresence). */
  others: PresenceItem[];
  onEditingChange: (editing: boolean) => void;
  onClose: () => void;
}

function eventTaskId(event: ProjectEvent): string | null {
  const data = event.data ?? {};
  if (event.task) return event.task.id;
  if (typeof data.taskId === "string") return data.taskId;
  return event.type.startsWith("task.") && typeof data.id === "string" ? data.id : null;
}

export function TaskPanel({ taskId, members, permissions, events, others, onEditingChange, onClose }: Props) {
  const { data, loading, error, refetch } = useQuery<{ task: TaskDetail | null }>(TASK_DETAIL, { variables: { id: taskId } });
  const { data: viewer } = useQuery<{ viewer: User }>(VIEWER);
  const panel = useRef<HTMLElement>(null);

  // Comments and attachments are not in the board's cache: refetch whenever an event about this
  // task arrives (the feed holds every event, so none is lost when several come at once).
  const latestEventId = events.find((event) => eventTaskId(event) === taskId)?.id;
  const seenEventId = useRef(latestEventId);
  useEffect(() => {
    if (latestEventId !== seenEventId.current) {
      seenEventId.current = latestEventId;
      void refetch();
    }
  }, [latestEventId, refetch]);

  // Focus once, on opening: not on every re-render of the board (a new `onClose`), which would
  // pull focus out of the edit form.
  useEffect(() => panel.current?.focus(), []);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const task = data?.task;
  const deleted = events.some((event) => event.type === "task.deleted" && eventTaskId(event) === taskId);
  const taskEvents = events.filter((event) => eventTaskId(event) === taskId);
  const editors = [...new Set(others.filter((item) => item.taskId === taskId && item.editing).map((item) => item.user.displayName))];

  return (
    <aside className="panel" role="dialog" aria-modal="false" aria-label="Task details" tabIndex={-1} ref={panel}>
      <div className="panel-header">
        <h2>{task?.title ?? "Task"}</h2>
        <button type="button" onClick={onClose} aria-label="Close task details">
          ✕
        </button>
      </div>
      {loading && !data && <p aria-busy="true">Loading task…</p>}
      {error && (
        <p className="error" role="alert">
          {describeError(error)}
        </p>
      )}
      {(deleted || (data && !task)) && (
        <p className="error" role="alert">
          This task was deleted, or you cannot see it.
        </p>
      )}
      {editors.length > 0 && (
        <p className="editing-indicator" aria-live="polite">
          {editors.join(", ")} {editors.length > 1 ? "are" : "is"} editing
        </p>
      )}
      {task && !deleted && (
        <>
          <TaskEditor
            task={task}
            members={members}
            canEdit={permissions.canEdit}
            latestUpdate={taskEvents.find((e) => e.type === "task.updated") ?? null}
            onEditingChange={onEditingChange}
          />
          {(permissions.canModerate || (permissions.canEdit && task.createdBy?.id === viewer?.viewer.id)) && (
            <DeleteTask task={task} onDeleted={onClose} />
          )}
          <Comments task={task} canComment={permissions.canEdit} onAdded={() => void refetch()} />
          <Attachments task={task} canUpload={permissions.canEdit} canDelete={permissions.canModerate} onChanged={() => void refetch()} />
          <section aria-label="Task activity">
            <h3>Activity</h3>
            {taskEvents.length === 0 && <p className="muted">Nothing yet.</p>}
            <ol className="feed">
              {taskEvents.map((event) => (
                <li key={event.id}>
                  <span>{describeEvent(event)}</span>
                  <time dateTime={event.createdAt}>{formatTime(event.createdAt)}</time>
                </li>
              ))}
            </ol>
          </section>
        </>
      )}
    </aside>
  );
}

function DeleteTask({ task, onDeleted }: { task: Task; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [deleteTask, { loading }] = useMutation<{ deleteTask: { deletedId: string | null; errors: UserError[] } }>(DELETE_TASK);
  const run = async () => {
    setMessage(null);
    try {
      const result = await deleteTask({ variables: { input: { id: task.id } } });
      const errors = result.data?.deleteTask.errors ?? [];
      if (errors.length) return setMessage(describeUserErrors(errors));
      onDeleted();
    } catch (error) {
      setMessage(describeError(error));
    }
  };
  return (
    <div className="danger-zone">
      {confirming ? (
        <>
          <span>Delete “{task.title}” for everyone?</span>
          <button type="button" className="danger" onClick={() => void run()} disabled={loading}>
            {loading ? "Deleting…" : "Yes, delete"}
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete task
        </button>
      )}
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
    </div>
  );
}

function Comments({ task, canComment, onAdded }: { task: TaskDetail; canComment: boolean; onAdded: () => void }) {
  const [body, setBody] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [addComment, { loading }] = useMutation<{ addComment: { comment: { id: string } | null; errors: UserError[] } }>(ADD_COMMENT);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setMessage(null);
    try {
      const result = await addComment({ variables: { input: { taskId: task.id, body } } });
      const errors = result.data?.addComment.errors ?? [];
      if (errors.length) return setMessage(describeUserErrors(errors));
      setBody("");
      onAdded();
    } catch (error) {
      setMessage(describeError(error));
    }
  };
  return (
    <section aria-label="Comments">
      <h3>Comments ({task.comments.totalCount})</h3>
      <ol className="comments">
        {task.comments.edges.map(({ node }) => (
          <li key={node.id}>
            <div className="comment-meta">
              <strong>{node.author?.displayName ?? "Someone"}</strong>
              <time dateTime={node.createdAt}>{formatTime(node.createdAt)}</time>
              {node.editedAt && <span className="muted">(edited)</span>}
            </div>
            <p>{node.body}</p>
          </li>
        ))}
      </ol>
      {canComment && (
        <form onSubmit={submit} className="comment-form">
          <label>
            Add a comment
            <textarea value={body} onChange={(event) => setBody(event.target.value)} rows={3} maxLength={5000} required />
          </label>
          <button type="submit" className="primary" disabled={loading || !body.trim()}>
            {loading ? "Posting…" : "Comment"}
          </button>
          {message && (
            <p className="error" role="alert">
              {message}
            </p>
          )}
        </form>
      )}
    </section>
  );
}
