// Placeholder: the sweep planner (issue 8) replaces this file.
