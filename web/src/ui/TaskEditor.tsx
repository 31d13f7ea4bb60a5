// Editing with optimistic concurrency: the form remembers the version it started from and sends
// it as `expectedVersion`. If someone saved in between, the server answers CONFLICT and changes
// nothing; the form then shows their values next to yours and lets you keep either.
import { useApolloClient, useMutation } from "@apollo/client/react";
import { useEffect, useState } from "react";

import { priorityLabel, statusLabel } from "../describe";
import { describeError, describeUserErrors } from "../errors";
import {
  PRIORITIES,
  STATUSES,
  TASK_DETAIL,
  UPDATE_TASK,
  type ProjectEvent,
  type Task,
  type User,
  type UserError,
} from "../operations";

interface Draft {
  title: string;
  description: string;
  status: string;
  priority: string;
  dueDate: string;
  assigneeId: string;
}

const FIELDS: { key: keyof Draft; label: string }[] = [
  { key: "title", label: "Title" },
  { key: "description", label: "Description" },
  { key: "status", label: "Status" },
  { key: "priority", label: "Priority" },
  { key: "dueDate", label: "Due date" },
  { key: "assigneeId", label: "Assignee" },
];

function draftOf(task: Task): Draft {
  return {
    title: task.title,
    description: task.description,
    status: task.status,
    priority: task.priority,
    dueDate: task.dueDate ?? "",
    assigneeId: task.assignee?.id ?? "",
  };
}

interface Conflict {
  theirs: Task;
  by: string | null;
}

interface Props {
  task: Task;
  members: { user: User }[];
  canEdit: boolean;
  latestUpdate: ProjectEvent | null;
  /** True while focus is inside the form (others then see "… is editing"). */
  onEditingChange?: (editing: boolean) => void;
}

export function TaskEditor({ task, members, canEdit, latestUpdate, onEditingChange }: Props) {
  const client = useApolloClient();
  const [base, setBase] = useState<Task>(task);
  const [draft, setDraft] = useState<Draft>(() => draftOf(task));
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [updateTask, { loading }] = useMutation<{ updateTask: { task: Task | null; errors: UserError[] } }>(UPDATE_TASK);

  const baseDraft = draftOf(base);
  const dirty = FIELDS.some(({ key }) => draft[key] !== baseDraft[key]);

  // Live changes flow into an untouched form; a form being edited keeps its starting version.
  useEffect(() => {
    if (!dirty && !conflict && task.version !== base.version) {
      setBase(task);
      setDraft(draftOf(task));
    }
  }, [task, dirty, conflict, base.version]);

  const memberName = (id: string) => members.find(({ user }) => user.id === id)?.user.displayName ?? "Nobody";
  const show = (key: keyof Draft, value: string) => {
    if (key === "status") return statusLabel(value);
    if (key === "priority") return priorityLabel(value);
    if (key === "assigneeId") return memberName(value);
    return value || "—";
  };

  const save = async (expectedVersion: number) => {
    setMessage(null);
    setSaved(false);
    const changes: Record<string, unknown> = {};
    // Only the fields this person changed: saving over a conflict keeps the others' edits to
    // every other field.
    for (const { key } of FIELDS) {
      if (draft[key] !== baseDraft[key]) changes[key] = draft[key] === "" && (key === "dueDate" || key === "assigneeId") ? null : draft[key];
    }
    try {
      const result = await updateTask({ variables: { input: { id: task.id, expectedVersion, ...changes } } });
      const payload = result.data?.updateTask;
      if (payload?.errors.some((error) => error.code === "CONFLICT")) {
        const latest = await client.query<{ task: Task | null }>({ query: TASK_DETAIL, variables: { id: task.id }, fetchPolicy: "network-only" });
        if (latest.data?.task) {
          setConflict({ theirs: latest.data.task, by: latestUpdate?.actor?.displayName ?? null });
        } else {
          setMessage("This task was deleted by someone else.");
        }
        return;
      }
      if (payload?.errors.length) return setMessage(describeUserErrors(payload.errors));
      if (payload?.task) {
        setBase(payload.task);
        setDraft(draftOf(payload.task));
      }
      setConflict(null);
      setSaved(true);
    } catch (error) {
      setMessage(describeError(error));
    }
  };

  const useTheirs = () => {
    if (!conflict) return;
    setBase(conflict.theirs);
    setDraft(draftOf(conflict.theirs));
    setConflict(null);
  };

  const field = (key: keyof Draft) => ({
    value: draft[key],
    disabled: !canEdit,
    onChange: (event: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) => {
      setSaved(false);
      setDraft({ ...draft, [key]: event.target.value });
    },
  });

  if (!canEdit) {
    return (
      <dl className="details">
        {FIELDS.map(({ key, label }) => (
          <div key={key}>
            <dt>{label}</dt>
            <dd>{show(key, baseDraft[key])}</dd>
          </div>
        ))}
      </dl>
    );
  }

  const theirs = conflict ? draftOf(conflict.theirs) : null;
  return (
    <form
      className="editor"
      aria-label="Edit task"
      onFocus={() => onEditingChange?.(true)}
      onBlur={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) onEditingChange?.(false);
      }}
      onSubmit={(event) => {
        event.preventDefault();
        void save(conflict ? conflict.theirs.version : base.version);
      }}
    >
      {conflict && theirs && (
        <div className="conflict" role="alert">
          <strong>
            {conflict.by ? `${conflict.by} changed this task` : "Someone else changed this task"} while you were editing.
          </strong>
          <p>Nothing was saved. Their version and yours:</p>
          <table>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Theirs</th>
                <th scope="col">Yours</th>
              </tr>
            </thead>
            <tbody>
              {FIELDS.filter(({ key }) => theirs[key] !== baseDraft[key] || draft[key] !== baseDraft[key]).map(({ key, label }) => (
                <tr key={key}>
                  <th scope="row">{label}</th>
                  <td className="theirs">{show(key, theirs[key])}</td>
                  <td className="yours">{draft[key] === baseDraft[key] ? "(unchanged)" : show(key, draft[key])}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="actions">
            <button type="submit" className="primary" disabled={loading}>
              Save mine over theirs
            </button>
            <button type="button" onClick={useTheirs}>
              Keep theirs
            </button>
          </div>
        </div>
      )}
      <label>
        Title
        <input {...field("title")} required maxLength={200} />
      </label>
      <label>
        Description
        <textarea {...field("description")} rows={4} maxLength={10000} />
      </label>
      <div className="row">
        <label>
          Status
          <select {...field("status")}>
            {STATUSES.map(({ value, label }) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select {...field("priority")}>
            {PRIORITIES.map((value) => (
              <option key={value} value={value}>
                {priorityLabel(value)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="row">
        <label>
          Assignee
          <select {...field("assigneeId")}>
            <option value="">Nobody</option>
            {members.map(({ user }) => (
              <option key={user.id} value={user.id}>
                {user.displayName}
              </option>
            ))}
          </select>
        </label>
        <label>
          Due date
          <input type="date" {...field("dueDate")} />
        </label>
      </div>
      {!conflict && dirty && task.version !== base.version && (
        <p className="notice" role="status">
          This task changed since you started editing; saving will show you both versions.
        </p>
      )}
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
      {!conflict && (
        <div className="actions">
          <button type="submit" className="primary" disabled={loading || !dirty}>
            {loading ? "Saving…" : "Save changes"}
          </button>
          {dirty && (
            <button type="button" onClick={() => setDraft(draftOf(base))}>
              Discard
            </button>
          )}
          {saved && <span role="status">Saved.</span>}
        </div>
      )}
    </form>
  );
}
