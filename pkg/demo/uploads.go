package demo

// The contents of the demo's uploaded files. They carry personal data (names,
// emails, phone numbers) as real CVs do, so exports and erasure have files to find.

const adaCV = `Ada Lovelace
London, United Kingdom | ada@example.com | +44 20 7946 0958

SUMMARY
Mathematician and writer. Published the first algorithm intended to be carried
out by a machine, and argued early that such machines could act on symbols,
not only numbers.

EXPERIENCE
1842-1843  Translator and author, "Sketch of the Analytical Engine"
           - Translated L. F. Menabrea's paper from French
           - Wrote Notes A-G, three times the length of the original
           - Designed the method for computing Bernoulli numbers (Note G)
1833-1852  Collaborator and correspondent, Charles Babbage
           - Reviewed designs for the Difference and Analytical Engines

EDUCATION
Private tuition in mathematics and logic with Augustus De Morgan and Mary Somerville

SKILLS
Mathematics, algorithm design, technical writing, translation (French)
`

const katherineCV = `Katherine Johnson
Hampton, Virginia | katherine@example.com | +1 757 555 0187

SUMMARY
Research mathematician with fifteen years of trajectory analysis for crewed
spaceflight. Known for hand-checking machine results before launch.

EXPERIENCE
1958-1986  Aerospace technologist, Flight Research Division
           - Calculated the trajectory for the first American crewed suborbital flight
           - Verified orbital computations for the first American orbital flight
           - Co-authored 26 research reports
1953-1958  Research mathematician, West Area Computing unit

EDUCATION
B.S. Mathematics and French, West Virginia State College

SKILLS
Analytic geometry, orbital mechanics, numerical verification, report writing
`

const graceJobDescription = `Compiler Engineering Lead
Harbor Systems (hybrid, Arlington, Virginia)

ABOUT THE ROLE
Lead a team of six engineers who build the compiler and toolchain behind our
business-language platform. You will set technical direction, review designs,
and mentor engineers early in their careers.

RESPONSIBILITIES
- Own the compiler roadmap: front end, optimiser and code generation
- Grow the team through hiring, pairing and honest feedback
- Work with product teams to make programs readable by non-specialists

REQUIREMENTS
- Ten or more years of compiler or language-runtime experience
- Evidence of mentoring and leading engineers
- Clear writing for technical and non-technical readers

Questions: recruiting@harbor.example
`
