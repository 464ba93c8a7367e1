"""What the user gives: the project file, boards, apps, expectations, test-suite scenarios, the workspace."""
