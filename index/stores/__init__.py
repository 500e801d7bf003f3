"""Where passages are kept and searched: the local folder store (``local``), PostgreSQL with pgvector
(``postgres``), the FAISS vector index (``vectors``) and the BM25 keyword index (``keywords``)."""
