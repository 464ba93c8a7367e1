"""Host plumbing: owned processes, the lifeline, deadlines, atomic files, data paths."""
