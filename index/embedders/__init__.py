"""Text to vectors: sentence-transformers for passages (``sentence_transformer``) and the numpy encoder
that embeds questions without torch (``numpy_encoder``)."""
