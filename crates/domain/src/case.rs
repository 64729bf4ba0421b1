//! CASE 1.1 (filled in next)
