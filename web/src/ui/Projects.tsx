import { useQuery } from "@apollo/client/react";

import { describeError } from "../errors";
import { PROJECTS, type Role } from "../operations";
import { followLink, href } from "../router";

interface ProjectsData {
  projects: {
    totalCount: number;
    edges: {
      node: { id: string; name: string; description: string; viewerRole: Role; tasks: { totalCount: number } };
    }[];
  };
}

export function Projects() {
  const { data, loading, error } = useQuery<ProjectsData>(PROJECTS);
  return (
    <section className="page">
      <h1>Projects</h1>
      {loading && !data && <p aria-busy="true">Loading projects…</p>}
      {error && (
        <p className="error" role="alert">
          {describeError(error)}
        </p>
      )}
      {data && data.projects.edges.length === 0 && <p>You are not a member of any project yet.</p>}
      <ul className="project-list">
        {data?.projects.edges.map(({ node }) => {
          const to = `/projects/${encodeURIComponent(node.id)}`;
          return (
            <li key={node.id}>
              <a href={href(to)} onClick={(event) => followLink(event, to)}>
                <strong>{node.name}</strong>
                <span className="muted">
                  {node.tasks.totalCount} tasks · {node.viewerRole.toLowerCase()}
                </span>
                {node.description && <span className="description">{node.description}</span>}
              </a>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
