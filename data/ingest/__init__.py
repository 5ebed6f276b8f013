"""Reading DfE, GIAS and Ofsted files into the store, and the tables derived from them at import."""
