import { Injectable } from '@nestjs/common';

export interface Task {
  readonly id: number;
  readonly title: string;
  readonly by: string;
}

/** The shared task board, in memory. */
@Injectable()
export class BoardService {
  private readonly tasks: Task[] = [];

  add(title: string, by: string): Task {
    const task: Task = { id: this.tasks.length + 1, title, by };
    this.tasks.push(task);
    return task;
  }

  all(): readonly Task[] {
    return this.tasks;
  }
}
