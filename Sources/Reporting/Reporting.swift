// Module Reporting.
