import { useMutation, useQuery } from "@apollo/client/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { describeEvent, formatTime, priorityLabel, statusLabel } from "../describe";
import { describeError, describeUserErrors } from "../errors";
import {
  BOARD,
  CREATE_TASK,
  PRIORITIES,
  STATUSES,
  UPDATE_TASK,
  VIEWER,
  type PresenceItem,
  type ProjectEvent,
  type Role,
  type Task,
  type TaskPriority,
  type TaskStatus,
  type User,
  type UserError,
} from "../operations";
import { followLink, href, navigate } from "../router";
import { useProjectEvents } from "../useProjectEvents";
import { initials, usePresence } from "../usePresence";
import { TaskPanel } from "./TaskPanel";

export interface BoardData {
  project: {
    id: string;
    name: string;
    description: string;
    viewerRole: Role | null;
    members: { role: Role; user: User }[];
    tasks: { totalCount: number; edges: { node: Task }[] };
  } | null;
}

export interface Permissions {
  canEdit: boolean;
  canModerate: boolean;
}

function useDebounced<T>(value: T, delay: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), delay);
    return () => window.clearTimeout(timer);
  }, [value, delay]);
  return debounced;
}

export function Board({ projectId, openTaskId }: { projectId: string; openTaskId: string | null }) {
  const [assignee, setAssignee] = useState("");
  const [priority, setPriority] = useState("");
  const [searchText, setSearchText] = useState("");
  const search = useDebounced(searchText.trim(), 300);

  const filter = useMemo(() => {
    const value: Record<string, unknown> = {};
    if (assignee === "none") value.unassigned = true;
    else if (assignee) value.assigneeId = assignee;
    if (priority) value.priority = [priority];
    return value;
  }, [assignee, priority]);

  const { data, loading, error, refetch } = useQuery<BoardData>(BOARD, {
    variables: { projectId, filter, search: search || null },
  });

  // Several events can arrive together (a replay): one refetch for the lot.
  const refetchTimer = useRef<number | undefined>(undefined);
  const onEvent = useCallback(
    (event: ProjectEvent) => {
      if (event.type.startsWith("task.")) {
        window.clearTimeout(refetchTimer.current);
        refetchTimer.current = window.setTimeout(() => void refetch(), 100);
      }
    },
    [refetch],
  );
  const { events, error: liveError } = useProjectEvents(projectId, onEvent);

  // Presence: this tab is on the board or the open task, editing while its form is in use.
  const [editing, setEditing] = useState(false);
  useEffect(() => setEditing(false), [openTaskId]);
  const { data: me } = useQuery<{ viewer: User }>(VIEWER);
  const others = usePresence(projectId, openTaskId, editing).filter((item) => item.user.id !== me?.viewer.id);

  const project = data?.project;
  const role = project?.viewerRole ?? null;
  const permissions: Permissions = {
    canEdit: role === "OWNER" || role === "ADMIN" || role === "MEMBER",
    canModerate: role === "OWNER" || role === "ADMIN",
  };
  const tasks = project?.tasks.edges.map((edge) => edge.node) ?? [];
  const members = project?.members ?? [];
  const closePanel = () => navigate(`/projects/${encodeURIComponent(projectId)}`);

  if (!data && loading) return <p className="page" aria-busy="true">Loading board…</p>;
  if (error && !data) {
    return (
      <p className="page error" role="alert">
        {describeError(error)}
      </p>
    );
  }
  if (!project) {
    return (
      <section className="page">
        <p className="error" role="alert">
          This project does not exist, or you are not a member of it.
        </p>
        <a href={href("/")} onClick={(event) => followLink(event, "/")}>
          Back to projects
        </a>
      </section>
    );
  }

  return (
    <div className="board-page">
      <section className="board" aria-label="Board">
        <div className="board-header">
          <h1>{project.name}</h1>
          <span className="muted">
            Your role: {role?.toLowerCase()}
            {!permissions.canEdit && " (read only)"}
          </span>
          <Viewers others={others} />
        </div>
        {liveError && (
          <p className="error" role="alert">
            {liveError}
          </p>
        )}
        {error && (
          <p className="error" role="alert">
            {describeError(error)}
          </p>
        )}
        <form className="filters" role="search" onSubmit={(event) => event.preventDefault()}>
          <label>
            Search
            <input type="search" value={searchText} onChange={(event) => setSearchText(event.target.value)} placeholder="Title or description" />
          </label>
          <label>
            Assignee
            <select value={assignee} onChange={(event) => setAssignee(event.target.value)}>
              <option value="">Anyone</option>
              <option value="none">Unassigned</option>
              {members.map(({ user }) => (
                <option key={user.id} value={user.id}>
                  {user.displayName}
                </option>
              ))}
            </select>
          </label>
          <label>
            Priority
            <select value={priority} onChange={(event) => setPriority(event.target.value)}>
              <option value="">Any</option>
              {PRIORITIES.map((value) => (
                <option key={value} value={value}>
                  {priorityLabel(value)}
                </option>
              ))}
            </select>
          </label>
          {loading && <span className="muted" aria-live="polite">Updating…</span>}
        </form>
        {permissions.canEdit && <NewTask projectId={projectId} members={members} onCreated={() => void refetch()} />}
        <div className="columns">
          {STATUSES.map(({ value, label }) => {
            const column = tasks.filter((task) => task.status === value);
            return (
              <section key={value} className="column" aria-label={label} data-status={value}>
                <h2>
                  {label} <span className="count">{column.length}</span>
                </h2>
                <ul>
                  {column.map((task) => (
                    <TaskCard key={task.id} task={task} projectId={projectId} canEdit={permissions.canEdit} />
                  ))}
                </ul>
                {column.length === 0 && <p className="muted empty">No tasks</p>}
              </section>
            );
          })}
        </div>
      </section>
      <Activity events={events} />
      {openTaskId && (
        <TaskPanel
          key={openTaskId}
          taskId={openTaskId}
          members={members}
          permissions={permissions}
          events={events}
          others={others}
          onEditingChange={setEditing}
          onClose={closePanel}
        />
      )}
    </div>
  );
}

function Viewers({ others }: { others: PresenceItem[] }) {
  const people = new Map<string, PresenceItem>();
  for (const item of others) if (!people.has(item.user.id) || item.editing) people.set(item.user.id, item);
  if (people.size === 0) return null;
  return (
    <ul className="presence" aria-label="Also viewing">
      {[...people.values()].map(({ user, editing }) => (
        <li key={user.id} className={editing ? "avatar editing" : "avatar"} title={`${user.displayName}${editing ? " (editing)" : ""}`} aria-label={user.displayName}>
          {initials(user.displayName)}
        </li>
      ))}
    </ul>
  );
}

function NewTask({ projectId, members, onCreated }: { projectId: string; members: { user: User }[]; onCreated: () => void }) {
  const [title, setTitle] = useState("");
  const [priority, setPriority] = useState<TaskPriority>("MEDIUM");
  const [status, setStatus] = useState<TaskStatus>("TODO");
  const [assigneeId, setAssigneeId] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [createTask, { loading }] = useMutation<{ createTask: { task: Task | null; errors: UserError[] } }>(CREATE_TASK);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setMessage(null);
    try {
      const result = await createTask({
        variables: { input: { projectId, title, priority, status, assigneeId: assigneeId || null } },
      });
      const payload = result.data?.createTask;
      if (payload?.errors.length) return setMessage(describeUserErrors(payload.errors));
      setTitle("");
      onCreated();
    } catch (error) {
      setMessage(describeError(error));
    }
  };

  return (
    <form className="new-task" onSubmit={submit} aria-label="Create a task">
      <label className="grow">
        New task
        <input value={title} onChange={(event) => setTitle(event.target.value)} placeholder="What needs doing?" required maxLength={200} />
      </label>
      <label>
        Status
        <select value={status} onChange={(event) => setStatus(event.target.value as TaskStatus)}>
          {STATUSES.map(({ value, label }) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Priority
        <select value={priority} onChange={(event) => setPriority(event.target.value as TaskPriority)}>
          {PRIORITIES.map((value) => (
            <option key={value} value={value}>
              {priorityLabel(value)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Assignee
        <select value={assigneeId} onChange={(event) => setAssigneeId(event.target.value)}>
          <option value="">Nobody</option>
          {members.map(({ user }) => (
            <option key={user.id} value={user.id}>
              {user.displayName}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="primary" disabled={loading || !title.trim()}>
        {loading ? "Adding…" : "Add task"}
      </button>
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
    </form>
  );
}

function TaskCard({ task, projectId, canEdit }: { task: Task; projectId: string; canEdit: boolean }) {
  const [message, setMessage] = useState<string | null>(null);
  const [updateTask, { loading }] = useMutation<{ updateTask: { task: Task | null; errors: UserError[] } }>(UPDATE_TASK);
  const to = `/projects/${encodeURIComponent(projectId)}/tasks/${encodeURIComponent(task.id)}`;

  const move = async (status: TaskStatus) => {
    setMessage(null);
    try {
      const result = await updateTask({ variables: { input: { id: task.id, expectedVersion: task.version, status } } });
      const errors = result.data?.updateTask.errors ?? [];
      if (errors.some((error) => error.code === "CONFLICT")) {
        setMessage("Someone else changed this task just now; the card shows their version. Try again.");
      } else if (errors.length) {
        setMessage(describeUserErrors(errors));
      }
    } catch (error) {
      setMessage(describeError(error));
    }
  };

  return (
    <li className={`card priority-${task.priority.toLowerCase()}`} data-task-id={task.id}>
      <a className="card-title" href={href(to)} onClick={(event) => followLink(event, to)}>
        {task.title}
      </a>
      <div className="card-meta">
        <span className={`badge priority-${task.priority.toLowerCase()}`}>{priorityLabel(task.priority)}</span>
        <span>{task.assignee ? task.assignee.displayName : "Unassigned"}</span>
        {task.dueDate && <span>Due {task.dueDate}</span>}
        {task.commentCount > 0 && (
          <span>
            {task.commentCount} comment{task.commentCount === 1 ? "" : "s"}
          </span>
        )}
      </div>
      {canEdit && (
        <label className="move">
          Move to
          <select
            value={task.status}
            disabled={loading}
            onChange={(event) => void move(event.target.value as TaskStatus)}
            aria-label={`Move “${task.title}” to`}
          >
            {STATUSES.map(({ value }) => (
              <option key={value} value={value}>
                {statusLabel(value)}
              </option>
            ))}
          </select>
        </label>
      )}
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
    </li>
  );
}

function Activity({ events }: { events: ProjectEvent[] }) {
  return (
    <aside className="activity" aria-label="Activity">
      <h2>Activity</h2>
      {events.length === 0 && <p className="muted">Nothing yet.</p>}
      <ol>
        {events.slice(0, 50).map((event) => (
          <li key={event.id}>
            <span>{describeEvent(event)}</span>
            <time dateTime={event.createdAt}>{formatTime(event.createdAt)}</time>
          </li>
        ))}
      </ol>
    </aside>
  );
}
