"""Bad input, faults and long runs (issue 7): every case here is a row of docs/bad-input.md."""
