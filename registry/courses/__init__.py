"""Filed courses and their timetables."""
