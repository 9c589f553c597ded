"""nncourse: the course tooling (release, grade, feedback, parity report)."""
