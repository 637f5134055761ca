"""Services the pages call, still free of Streamlit: the run store, training jobs and their progress, model scope."""
