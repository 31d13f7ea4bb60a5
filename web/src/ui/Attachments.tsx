// Uploads go to the REST endpoint (multipart, field `file`) through XMLHttpRequest, the one
// browser API that reports upload progress; downloads are fetched with the bearer token (never
// a token in a URL) and handed to the browser as a blob.
import { useRef, useState } from "react";
import { useMutation } from "@apollo/client/react";

import { currentAccessToken, getAccessToken } from "../auth";
import { formatSize } from "../describe";
import { describeError, describeUserErrors } from "../errors";
import { restId } from "../ids";
import { DELETE_ATTACHMENT, type Task, type User, type UserError } from "../operations";

export interface AttachmentItem {
  id: string;
  name: string;
  size: number;
  contentType: string;
  url: string;
  state: string;
  uploadedAt: string;
  uploadedBy: User | null;
}

interface Props {
  task: Task & { attachments: AttachmentItem[] };
  canUpload: boolean;
  canDelete: boolean;
  onChanged: () => void;
}

function problemMessage(status: number, body: string): string {
  try {
    const problem = JSON.parse(body) as { detail?: string; title?: string; errors?: Record<string, string[]> };
    const fieldErrors = Object.values(problem.errors ?? {}).flat();
    if (fieldErrors.length) return fieldErrors.join(" ");
    if (problem.detail || problem.title) return (problem.detail || problem.title) as string;
  } catch {
    // not JSON: fall through to the status
  }
  if (status === 413) return "The file is too large.";
  if (status === 405) return "This server does not accept uploads yet.";
  return `The upload failed (HTTP ${status}).`;
}

function upload(taskId: string, file: File, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/v1/tasks/${restId(taskId)}/attachments/`);
    request.setRequestHeader("Authorization", `Bearer ${currentAccessToken() ?? ""}`);
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onload = () =>
      request.status >= 200 && request.status < 300 ? resolve() : reject(new Error(problemMessage(request.status, request.responseText)));
    request.onerror = () => reject(new Error("The upload was interrupted. Check your connection and try again."));
    const form = new FormData();
    form.append("file", file);
    request.send(form);
  });
}

async function download(attachment: AttachmentItem): Promise<void> {
  const token = await getAccessToken();
  const response = await fetch(attachment.url, { headers: { Authorization: `Bearer ${token ?? ""}` } });
  if (!response.ok) throw new Error(`The download failed (HTTP ${response.status}).`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = attachment.name;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function Attachments({ task, canUpload, canDelete, onChanged }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [deleteAttachment] = useMutation<{ deleteAttachment: { deletedId: string | null; errors: UserError[] } }>(DELETE_ATTACHMENT);

  const send = async (file: File) => {
    setMessage(null);
    setProgress(0);
    try {
      await getAccessToken();
      await upload(task.id, file, setProgress);
      onChanged();
    } catch (error) {
      setMessage(describeError(error));
    } finally {
      setProgress(null);
      if (input.current) input.current.value = "";
    }
  };

  const remove = async (attachment: AttachmentItem) => {
    setMessage(null);
    try {
      const result = await deleteAttachment({ variables: { input: { id: attachment.id } } });
      const errors = result.data?.deleteAttachment.errors ?? [];
      if (errors.length) return setMessage(describeUserErrors(errors));
      onChanged();
    } catch (error) {
      setMessage(describeError(error));
    }
  };

  return (
    <section aria-label="Attachments">
      <h3>Attachments ({task.attachments.length})</h3>
      <ul className="attachments">
        {task.attachments.map((attachment) => (
          <li key={attachment.id}>
            <span className="name">{attachment.name}</span>
            <span className="muted">
              {formatSize(attachment.size)} · {attachment.uploadedBy?.displayName ?? "someone"}
            </span>
            <button type="button" onClick={() => download(attachment).catch((error) => setMessage(describeError(error)))}>
              Download <span className="visually-hidden">{attachment.name}</span>
            </button>
            {canDelete && (
              <button type="button" className="danger" onClick={() => void remove(attachment)}>
                Remove <span className="visually-hidden">{attachment.name}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
      {canUpload && (
        <label className="upload">
          Attach a file
          <input ref={input} type="file" disabled={progress !== null} onChange={(event) => event.target.files?.[0] && void send(event.target.files[0])} />
        </label>
      )}
      {progress !== null && (
        <div className="progress">
          <progress max={1} value={progress} aria-label="Upload progress" />
          <span>{Math.round(progress * 100)}%</span>
        </div>
      )}
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
    </section>
  );
}
