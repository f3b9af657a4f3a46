// Module Sealing.
