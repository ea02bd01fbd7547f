-- 0005: the files a task names are found from the index alone. Each lookup by basename read
-- every matching row of edit_history (a page or more each, with its diff) for four short
-- columns; with them in the index a recall naming README.md touches a few index pages.
DROP INDEX edit_history_project_basename;
CREATE INDEX edit_history_project_basename
    ON edit_history (project, basename, created_at, session_id, task_ref, rel_path, file);
