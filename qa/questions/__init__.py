"""What the question asks: its analysis and checks (``analysis``), follow-ups rewritten
with the previous question's subject (``followup``), and "What did X say?" answered with
X's words (``attribution``)."""
