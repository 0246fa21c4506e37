package demo

import "time"

// The demo's content. Ages are subtracted from the seed time, all within 60
// days; the chats and uploads straddle 30-day and 7-day retention windows.
// Some texts carry the user's own email or a phone number (fictional ranges:
// Ofcom drama numbers, 555-01xx) for redaction to find. Grace names Ada (by
// name only) in one of her messages: a mention that Ada's erasure replaces.

const day = 24 * time.Hour

type studioFixture struct{ id, name string }

var studios = []studioFixture{
	{"career-coach", "Career Coach"},
	{"calm-mind", "Calm Mind"},
}

type userFixture struct {
	email, name string
	age         time.Duration
}

// users are named in the README tour by email; keep them.
var users = []userFixture{
	{"ada@example.com", "Ada Lovelace", 50 * day},
	{"grace@example.com", "Grace Hopper", 15 * day},
	{"alan@example.com", "Alan Turing", 59 * day},
	{"katherine@example.com", "Katherine Johnson", 40 * day},
}

type newsletterFixture struct {
	email string
	age   time.Duration
}

// newsletter includes an address with no account: an identity found only by email.
var newsletter = []newsletterFixture{
	{"ada@example.com", 48 * day},
	{"grace@example.com", 10 * day},
	{"katherine@example.com", 39 * day},
	{"margaret@example.com", 5 * day},
}

type uploadFixture struct {
	folder   string // first segment of the storage key
	filename string // the name the user uploaded it under
	age      time.Duration
	content  string
}

type chatFixture struct {
	user   string // email of a users fixture
	studio string
	title  string
	age    time.Duration
	turns  []string // alternating, the user's first
	upload *uploadFixture
}

var chats = []chatFixture{
	{
		user: "ada@example.com", studio: "career-coach", age: 45 * day,
		title:  "Review my CV for a data science role",
		upload: &uploadFixture{"cv", "Ada_Lovelace_CV.txt", 45 * day, adaCV},
		turns: []string{
			"Hi! I've attached my CV. I'm applying for senior data scientist roles and would like honest feedback on the structure.",
			"Thanks, Ada. Your strongest material is the work on the Analytical Engine notes, so lead with it. Cut the summary to three lines and quantify outcomes: \"published the first algorithm for a machine\" says more than \"responsible for documentation\".",
			"Should I keep my phone number +44 20 7946 0958 and ada@example.com at the top, or is the email enough?",
			"Keep both in the header and drop your home address; recruiters need one email and one phone number. Then add a short skills section: mathematics, algorithm design, technical writing.",
		},
	},
	{
		user: "ada@example.com", studio: "calm-mind", age: 3 * day,
		title: "Exam anxiety",
		turns: []string{
			"My mathematics exams start next week and I can't stop thinking about failing. My heart races when I open my notes.",
			"That sounds exhausting, and it is a very common reaction before exams. When your heart starts racing, breathe in for four counts and out for six, five times. Would you like to plan your revision days together?",
			"Yes please. I revise until 2am and then lie awake.",
			"Late revision keeps your mind switched on. Let's set a stop time of 10pm, then twenty minutes of winding down: no notes, dim light, something calm to read.",
			"OK. Can you email the plan to ada@example.com so I have it on my phone?",
			"I can't send email from this chat, but here is the plan to copy: revise in 50-minute blocks, stop at 10pm, breathe four in and six out when the panic rises, and be kind to yourself on exam morning.",
		},
	},
	{
		user: "grace@example.com", studio: "career-coach", age: 9 * day,
		title:  "Interview prep: compiler engineering lead",
		upload: &uploadFixture{"jobs", "Compiler_Lead_Job_Description.txt", 2 * day, graceJobDescription},
		turns: []string{
			"I have a final-round interview for a compiler engineering lead role. I'll upload the job description when the recruiter sends it.",
			"Great, Grace. Lead interviews usually cover technical depth, how you grow a team, and how you handle disagreement. Which worries you most?",
			"Team growth. I've always just fixed things myself. Ada Lovelace, who mentored me, says I should learn to delegate.",
			"Prepare two stories where you taught someone instead of fixing it yourself. Tell each as situation, task, action, result, and end with what the other person did afterwards.",
			"Here's the job description. The recruiter will call me on +1 202 555 0142 tomorrow. What should I ask?",
			"Ask how success is measured in the first six months, who you would report to, and how the team chooses between shipping fast and doing it right. The description stresses mentoring, so bring your teaching stories.",
		},
	},
	{
		user: "alan@example.com", studio: "calm-mind", age: 58 * day,
		title: "Can't sleep",
		turns: []string{
			"I haven't slept more than four hours a night for two weeks. My mind keeps running through problems.",
			"I'm sorry, that is hard. Racing thoughts at night are common when the day leaves problems open. Before bed, write down each open problem and one next step, so your mind can set it down.",
			"I tried counting sheep but I end up factoring the numbers.",
			"Then give your mind something without a puzzle in it: a slow body scan from your toes upwards, or an audiobook you know well. If poor sleep lasts more than a month, please talk to your GP.",
		},
	},
	{
		user: "alan@example.com", studio: "calm-mind", age: 1 * day,
		title: "Nerves before a marathon",
		turns: []string{
			"I'm running a marathon on Sunday and my nerves are terrible.",
			"Nerves mean it matters to you. On the start line, try box breathing: in for four, hold for four, out for four, hold for four.",
			"Does that work while running too?",
			"While running, match your breath to your steps instead: in for three steps, out for three. It keeps you steady without having to think about it.",
		},
	},
	{
		user: "katherine@example.com", studio: "career-coach", age: 20 * day,
		title:  "Salary negotiation",
		upload: &uploadFixture{"cv", "katherine-johnson-cv.txt", 20 * day, katherineCV},
		turns: []string{
			"I've been offered a senior analyst role at an aerospace firm. My CV is attached. How do I negotiate the salary?",
			"Congratulations! Your CV shows fifteen years of trajectory analysis, which is rare. Find the market range for the role, name a figure near the top of it, and give one reason tied to their mission.",
			"They want an answer by Friday. Should I reply from katherine@example.com or call them?",
			"Call first: it is warmer and you hear their reaction. Then confirm in writing from your email so there is a record of what was agreed.",
		},
	},
	{
		user: "katherine@example.com", studio: "calm-mind", age: 35 * day,
		title: "Stress at work",
		turns: []string{
			"Work has been overwhelming. Everyone checks their numbers with me before a launch.",
			"Being the person everyone relies on is a lot to carry. What does a launch week look like for you?",
			"Twelve-hour days, and I still answer messages at night. My sister says to call her on 07700 900123 when it gets bad, but I don't want to burden her.",
			"Calling someone who offered is not a burden; it is what she asked for. Could you pick one evening a week when notifications stay off?",
			"I could try Wednesdays.",
			"Wednesdays it is. Notice how you feel on Thursday morning, and we can adjust from there.",
		},
	},
}
