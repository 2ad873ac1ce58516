from tools.jobs.cli import main

raise SystemExit(main())
