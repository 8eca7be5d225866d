"""The in-app inbox: every notification of the caller, pushed or not, and the app's badge."""
