"""Domain logic of the plugin: no Flask request code here, only the app context and the db."""
