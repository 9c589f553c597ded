"""nbgrader configuration: the lessons are authored in solutions/ and released into lessons/.

Run nbgrader from this folder, e.g. `nbgrader generate_assignment 01_loss_and_cost --force`.
The gradebook is gradebook.db in this folder (git-ignored).
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"
