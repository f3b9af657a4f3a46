// Module GitHistory.
