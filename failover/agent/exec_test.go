package agent

func helperMain(mode string) int { return 2 }
