"""Playing a crisis: a session over the engine, briefings, letters, the terminal game
and the debrief against history."""
